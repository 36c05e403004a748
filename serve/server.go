package serve

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sweep"
	"sweep/store"
)

// Source is what the server reads: read methods of *store.DB that any
// backend has. One that has them (and returns errors wrapping
// store.ErrNotFound for a missing sweep or run) can be served.
type Source interface {
	Sweeps(ctx context.Context) ([]sweep.SweepInfo, error)
	SweepReference(ctx context.Context, name string) (*sweep.Reference, error)
	Runs(ctx context.Context, f store.RunFilter) ([]sweep.RunResult, error)
	Run(ctx context.Context, idOrPrefix string) (sweep.RunResult, error)
	Epochs(ctx context.Context, f store.RunFilter) ([]sweep.EpochResult, error)
}

// Changes tells whether the data changed since an earlier call: Version
// returns a value that differs from the previous one after any write.
// *store.ChangeCounter is one.
type Changes interface {
	Version(ctx context.Context) (int64, error)
}

// Options configure a Server. The zero value of each field is a sensible
// default.
type Options struct {
	// Hosts are host names, besides localhost and IP literals, that the
	// Host header may carry (the name in --addr, if it is one). Any other
	// Host is refused, against DNS rebinding.
	Hosts []string
	// Poll is how often the change counter is read (default 250 ms).
	Poll time.Duration
	// Timeout bounds each request but the event stream (default 10 s).
	Timeout time.Duration
	// DBPath and Version are shown in the page footer.
	DBPath, Version string
	// Logf logs errors and the change counter's failures (default: log.Printf).
	Logf func(format string, args ...any)
}

// Limits that bound every request.
const (
	MaxRunsPage    = 5000 // rows of one runs table or /api/runs answer
	DefaultRunPage = 1000
	MaxCompare     = 20 // runs on one compare page
	maxEventConns  = 200
	maxCached      = 512      // responses kept
	maxCacheBytes  = 64 << 20 // and their total size
	// minRefresh is how long a response is served after the data changed
	// before it is computed again: a sweep writing many epochs a second
	// costs each URL at most a few database reads a second.
	minRefresh = 500 * time.Millisecond
)

// maxRendering bounds the requests reading the database and drawing at
// once: half the CPUs, so a server under load leaves training the rest.
var maxRendering = max(1, runtime.GOMAXPROCS(0)/2)

// genKey is the request context key of the generation being served.
type genKey struct{}

// Server is the web UI and JSON API over a Source. Create it with New,
// serve Handler, and run Watch (or use Serve, which does both).
type Server struct {
	src     Source
	changes Changes
	opt     Options
	pages   map[string]*template.Template

	gen    atomic.Int64 // bumped on every change the counter sees
	mu     sync.Mutex
	notify chan struct{} // closed and replaced at every change

	sem     chan struct{}
	streams atomic.Int64

	sweepMu  sync.Mutex
	sweepGen map[string]int64  // per sweep, bumped when its fingerprint changes
	sweepFP  map[string]string // fingerprint of each sweep at the last change

	cacheMu    sync.Mutex
	cache      map[string]*cached
	cacheBytes int
	inflight   map[string]*call
}

type cached struct {
	gen         int64     // generation when its computation began
	dep         string    // the sweep it depends on; "" for any
	depGen      int64     // that sweep's generation when its computation began
	at          time.Time // when its computation began
	status      int
	contentType string
	body        []byte
}

type call struct {
	done chan struct{}
	res  *cached
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns a server over src that learns of changes from changes.
func New(src Source, changes Changes, opt Options) (*Server, error) {
	if src == nil || changes == nil {
		return nil, errors.New("serve: new server: nil source or change counter")
	}
	if opt.Poll <= 0 {
		opt.Poll = 250 * time.Millisecond
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	if opt.Logf == nil {
		opt.Logf = log.Printf
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, fmt.Errorf("serve: new server: %w", err)
	}
	s := &Server{
		src: src, changes: changes, opt: opt, pages: pages,
		notify:   make(chan struct{}),
		sem:      make(chan struct{}, maxRendering),
		cache:    map[string]*cached{},
		sweepGen: map[string]int64{},
		sweepFP:  map[string]string{},
		inflight: map[string]*call{},
	}
	return s, nil
}

// Handler returns the server's routes behind its guards: the Host check,
// GET and HEAD only, security headers, and a time limit per request.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	// Each route says which sweep its answer depends on (anyOne: it may
	// depend on any), so that a change elsewhere keeps it cached.
	page := func(f func(w http.ResponseWriter, r *http.Request) error, dep func(*http.Request) string) http.Handler {
		return http.TimeoutHandler(s.cachedHandler(f, dep), s.opt.Timeout, "request took too long\n")
	}
	anyOne := func(*http.Request) string { return "" }
	pathSweep := func(r *http.Request) string { return r.PathValue("name") }
	querySweep := func(r *http.Request) string { return r.URL.Query().Get("sweep") }
	mux.Handle("GET /{$}", page(s.pageSweeps, anyOne))
	mux.Handle("GET /sweeps/{name}", page(s.pageRuns, pathSweep))
	mux.Handle("GET /sweeps/{name}/overview", page(s.pageOverview, pathSweep))
	mux.Handle("GET /runs/{id}", page(s.pageRun, anyOne))
	mux.Handle("GET /compare", page(s.pageCompare, querySweep))
	mux.Handle("GET /api/sweeps", page(s.apiSweeps, anyOne))
	mux.Handle("GET /api/sweeps/{name}", page(s.apiSweep, pathSweep))
	mux.Handle("GET /api/runs", page(s.apiRuns, querySweep))
	mux.Handle("GET /api/runs/{id}", page(s.apiRun, anyOne))
	mux.Handle("GET /api/runs/{id}/epochs", page(s.apiEpochs, anyOne))
	mux.HandleFunc("GET /api/events", s.events)
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	return s.guard(mux)
}

// csp allows nothing from outside the server. Inline styles are allowed
// because gonum's SVG figures carry style attributes; scripts are not.
const csp = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		if !s.hostAllowed(r.Host) {
			http.Error(w, fmt.Sprintf("host %q is not served here (sweep serve answers to localhost, IP addresses and the host in --addr)", r.Host), http.StatusMisdirectedRequest)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "sweep serve only reads: method "+r.Method+" not allowed", http.StatusMethodNotAllowed)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed accepts localhost, any IP literal (a rebinding attack needs
// a domain name) and the configured names.
func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") || net.ParseIP(host) != nil {
		return true
	}
	for _, h := range s.opt.Hosts {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// sweep returns one sweep's info; the error wraps store.ErrNotFound if
// there is none by that name. (Sweeps is cheap: one row per sweep.)
func (s *Server) sweep(ctx context.Context, name string) (sweep.SweepInfo, error) {
	infos, err := s.src.Sweeps(ctx)
	if err != nil {
		return sweep.SweepInfo{}, err
	}
	for _, info := range infos {
		if info.Name == name {
			return info, nil
		}
	}
	return sweep.SweepInfo{}, fmt.Errorf("sweep %q: %w", name, store.ErrNotFound)
}

// httpError is an error with the status to answer.
type httpError struct {
	status int
	msg    string
}

func (e httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// cachedHandler serves f's responses from a cache, so that many clients
// polling the same URL cost one computation per change of the data it
// depends on:
//
//   - while that data has not changed, the cached response is served: the
//     sweep dep names (after a change, its fingerprint says whether it
//     changed), or with dep "" the whole database;
//   - after a change, one request recomputes it while the others get the
//     previous one at once (stale while revalidating), and within
//     minRefresh of the last computation the previous one is served too.
//
// Every response carries the generation its data are current at (header
// X-Sweep-Generation), so a page's script that was told of a newer
// generation asks again until it gets it.
func (s *Server) cachedHandler(f func(w http.ResponseWriter, r *http.Request) error, depOf func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path + "?" + r.URL.RawQuery
		dep := depOf(r)
		res, gen, err := s.lookup(r.Context(), key, dep, func() (*cached, error) {
			gen := s.gen.Load()
			c := &cached{gen: gen, dep: dep, depGen: s.depGen(dep), at: time.Now()}
			rec := &recorder{header: http.Header{}, status: http.StatusOK}
			if err := f(rec, r.WithContext(context.WithValue(r.Context(), genKey{}, gen))); err != nil {
				return nil, err
			}
			c.status, c.contentType, c.body = rec.status, rec.header.Get("Content-Type"), rec.buf.Bytes()
			return c, nil
		})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", res.contentType)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Sweep-Generation", strconv.FormatInt(gen, 10))
		w.WriteHeader(res.status)
		if r.Method != http.MethodHead {
			w.Write(res.body)
		}
	})
}

// current reports whether c still holds the data it depends on, and the
// generation it is current at: the present one if so, else its own.
func (s *Server) current(c *cached) (bool, int64) {
	gen := s.gen.Load() // before depGen: fingerprints move before gen does
	if c.dep == "" {
		return c.gen == gen, c.gen
	}
	if c.depGen == s.depGen(c.dep) {
		return true, gen
	}
	return false, c.gen
}

// depGen is the generation of one sweep's data, or of all data for "".
func (s *Server) depGen(dep string) int64 {
	if dep == "" {
		return s.gen.Load()
	}
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	return s.sweepGen[dep]
}

// refreshSweeps bumps the generation of each sweep whose fingerprint
// (runs by status, training seconds, first start, last finish, last save)
// changed. New epochs add training seconds, status changes and new runs
// change the counts. If the sweeps cannot be read, every sweep counts as
// changed.
func (s *Server) refreshSweeps(ctx context.Context) {
	infos, err := s.src.Sweeps(ctx)
	s.sweepMu.Lock()
	defer s.sweepMu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			s.opt.Logf("serve: reading sweeps after a change: %v", err)
		}
		for name := range s.sweepGen {
			s.sweepGen[name]++
		}
		clear(s.sweepFP)
		return
	}
	seen := map[string]bool{}
	for _, info := range infos {
		seen[info.Name] = true
		var fp string
		for _, st := range sweep.Statuses() {
			fp += fmt.Sprint(info.Counts[st], " ")
		}
		fp += fmt.Sprint(info.Seconds, info.FirstStart.UnixNano(), info.LastFinish.UnixNano(), info.UpdatedAt.UnixNano())
		if old, ok := s.sweepFP[info.Name]; !ok || old != fp {
			s.sweepFP[info.Name] = fp
			s.sweepGen[info.Name]++
		}
	}
	for name := range s.sweepGen {
		if !seen[name] {
			delete(s.sweepFP, name)
			s.sweepGen[name]++
		}
	}
}

func (s *Server) lookup(ctx context.Context, key, dep string, compute func() (*cached, error)) (*cached, int64, error) {
	s.cacheMu.Lock()
	c := s.cache[key]
	if c != nil {
		if ok, gen := s.current(c); ok || time.Since(c.at) < minRefresh {
			s.cacheMu.Unlock()
			return c, gen, nil
		}
	}
	if cl := s.inflight[key]; cl != nil {
		s.cacheMu.Unlock()
		if c != nil {
			return c, c.gen, nil // stale while a fresher copy is computed
		}
		select {
		case <-cl.done:
			if cl.res != nil {
				return cl.res, cl.res.gen, nil
			}
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
		s.cacheMu.Lock()
	}
	cl := &call{done: make(chan struct{})}
	s.inflight[key] = cl
	s.cacheMu.Unlock()

	var res *cached
	var err error
	select {
	case s.sem <- struct{}{}:
		res, err = compute()
		<-s.sem
	case <-ctx.Done():
		err = ctx.Err()
	}

	s.cacheMu.Lock()
	if s.inflight[key] == cl {
		delete(s.inflight, key)
	}
	if err == nil && res.status == http.StatusOK {
		if old := s.cache[key]; old != nil {
			s.cacheBytes -= len(old.body)
		}
		if len(s.cache) >= maxCached || s.cacheBytes+len(res.body) > maxCacheBytes {
			clear(s.cache)
			s.cacheBytes = 0
		}
		s.cache[key] = res
		s.cacheBytes += len(res.body)
		cl.res = res
	}
	s.cacheMu.Unlock()
	close(cl.done)
	if err != nil {
		return nil, 0, err
	}
	return res, res.gen, nil
}

// recorder buffers a response for the cache.
type recorder struct {
	header http.Header
	status int
	buf    bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.buf.Write(b) }
func (r *recorder) WriteHeader(status int)      { r.status = status }

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "internal error: "+err.Error()
	var he httpError
	switch {
	case errors.As(err, &he):
		status, msg = he.status, he.msg
	case errors.Is(err, store.ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, store.ErrAmbiguous):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		status, msg = http.StatusServiceUnavailable, "request timed out or was cancelled: "+err.Error()
	}
	if status == http.StatusInternalServerError {
		s.opt.Logf("serve: %s %s: %v", r.Method, r.URL, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	s.pages["error"].ExecuteTemplate(w, "layout", errorView{
		layoutView: s.layout(r, http.StatusText(status)),
		Status:     status,
		Message:    msg,
	})
}

// Watch polls the change counter every Options.Poll until ctx is done,
// telling open pages (through /api/events) and the cache when the data
// changed.
func (s *Server) Watch(ctx context.Context) {
	t := time.NewTicker(s.opt.Poll)
	defer t.Stop()
	last, err := s.changes.Version(ctx)
	failing := err != nil
	s.refreshSweeps(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := s.changes.Version(ctx)
		if err != nil {
			if !failing && ctx.Err() == nil {
				s.opt.Logf("serve: watching for changes: %v", err)
			}
			failing = true
			continue
		}
		failing = false
		if v != last {
			last = v
			s.refreshSweeps(ctx) // before changed(): see current
			s.changed()
		}
	}
}

// changed bumps the generation and wakes every event stream.
func (s *Server) changed() {
	s.mu.Lock()
	s.gen.Add(1)
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
}

func (s *Server) wait() (<-chan struct{}, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notify, s.gen.Load()
}

// events is the Server-Sent Events stream: "change" with the generation
// whenever the data changed, and a comment every 15 s to keep proxies and
// SSH tunnels from closing it.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	if s.streams.Add(1) > maxEventConns {
		s.streams.Add(-1)
		http.Error(w, "too many open event streams", http.StatusServiceUnavailable)
		return
	}
	defer s.streams.Add(-1)
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodHead {
		return
	}
	ch, gen := s.wait()
	send := func(msg string) bool {
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprint(w, msg); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send(fmt.Sprintf("retry: 1000\nevent: hello\ndata: %d\n\n", gen)) {
		return
	}
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ch:
			ch, gen = s.wait()
			if !send(fmt.Sprintf("event: change\ndata: %d\n\n", gen)) {
				return
			}
		case <-keep.C:
			if !send(": keep-alive\n\n") {
				return
			}
		}
	}
}

// Serve serves s on ln until ctx is done, then shuts down, giving open
// requests up to 5 s. Event streams end with ctx.
func Serve(ctx context.Context, ln net.Listener, s *Server) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          log.New(logWriter{s.opt.Logf}, "", 0),
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.Watch(ctx) }()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = hs.Shutdown(sctx)
		scancel()
		if e := <-errc; !errors.Is(e, http.ErrServerClosed) && err == nil {
			err = e
		}
	}
	cancel()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("serve: %s: %w", ln.Addr(), err)
	}
	return nil
}

type logWriter struct{ logf func(string, ...any) }

func (l logWriter) Write(p []byte) (int, error) {
	l.logf("serve: %s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
