package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"sweep/serve"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[flags]", `
Serve a live web UI over the database: every sweep's progress and ETA, a
runs table to sort, filter and tick for comparison, each run's epochs and
learning curves, configurations compared with their repeats grouped, a
parallel-coordinates figure and the report's findings. Open pages update
within a second of a new epoch, status change or run, while any number of
'sweep run' processes write. The database is opened read-only and never
changed. Ctrl-C stops the server.

Everything is embedded in the binary (no network access needed). The UI
has no authentication: it listens on loopback unless --addr says
otherwise. On a cluster node, tunnel it:
  ssh -L 8080:127.0.0.1:8080 node    # then open http://127.0.0.1:8080/

Example:
  sweep serve
  sweep serve --db runs/sweep.db --addr 127.0.0.1:9000
  curl -s 'http://127.0.0.1:8080/api/runs?sweep=heads&sort=test_r2&dir=desc&limit=5'
`)
	dbPath := fs.dbFlag()
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	if err := fs.parse(args, stdout); err != nil {
		return err
	}
	if err := fs.wantArgs(0, 0); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if err != nil {
		return usageError{fmt.Errorf("--addr %q: %v (want host:port, e.g. 127.0.0.1:8080)", *addr, err)}
	}
	db, changes, closeAll, err := openServe(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer closeAll()

	var hosts []string
	if host != "" && net.ParseIP(host) == nil {
		hosts = append(hosts, host)
	}
	srv, err := serve.New(db, changes, serve.Options{
		Hosts:   hosts,
		DBPath:  db.Location(),
		Version: programVersion(),
		Logf:    func(format string, a ...any) { fmt.Fprintf(stderr, format+"\n", a...) },
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", *addr, err)
	}
	if !isLoopback(host) {
		fmt.Fprintf(stderr, "sweep serve: WARNING: listening on %s, not loopback: anyone who can reach it sees the results (the UI has no authentication)\n", ln.Addr())
	}
	fmt.Fprintf(stdout, "serving %s (read-only) at http://%s/ — Ctrl-C stops\n", db.Location(), ln.Addr())
	if err := serve.Serve(ctx, ln, srv); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "sweep serve: stopped")
	return nil
}

// isLoopback reports whether host (from --addr) only listens on loopback.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
