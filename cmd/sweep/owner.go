package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"sweep"
)

// An owner's ID is host:pid:start:random, where start is the process's
// start time in clock ticks after boot (field 22 of /proc/PID/stat). The
// pid and start time let another 'sweep run' on the same host tell at once
// that the owner is gone, even if its pid has been reused; the random part
// keeps IDs unique across hosts and boots.

// newOwner names this process for leases and the record.
func newOwner() sweep.Owner {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	pid := os.Getpid()
	start, _, err := processStart(pid)
	if err != nil {
		start = "0" // unknown: others will wait for the lease
	}
	return sweep.Owner{
		ID:      fmt.Sprintf("%s:%d:%s:%s", host, pid, start, hex.EncodeToString(b[:])),
		Host:    host,
		Version: programVersion(),
	}
}

// processStart is the start time of process pid, as /proc reports it (clock
// ticks after boot, as text), and its state letter (Z: a zombie, dead but
// not yet waited for).
func processStart(pid int) (start, state string, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", "", err
	}
	// The command name (field 2) is in parentheses and may hold spaces or
	// parentheses itself: the fields after it follow the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", "", fmt.Errorf("/proc/%d/stat: no ')'", pid)
	}
	fields := strings.Fields(s[i+1:])
	// fields[0] is field 3 (state); starttime is field 22.
	if len(fields) < 20 {
		return "", "", fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields)+2)
	}
	return fields[19], fields[0], nil
}

// ownerGone reports whether the owner with this ID is a process on this
// host that no longer exists: its pid is not running, is a zombie, or runs
// a process that started at another time. It is false whenever that cannot be told
// (another host, an ID without a start time, no /proc): then only the lease
// says when the run may be taken over.
func ownerGone(ownerID, host string) bool {
	parts := strings.Split(ownerID, ":")
	if len(parts) < 4 {
		return false
	}
	n := len(parts)
	ownerHost, pidText, start := strings.Join(parts[:n-3], ":"), parts[n-3], parts[n-2]
	pid, err := strconv.Atoi(pidText)
	if ownerHost != host || err != nil || pid <= 0 || start == "0" {
		return false
	}
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return false // no /proc here: cannot tell
	}
	now, state, err := processStart(pid)
	if err != nil {
		return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH)
	}
	return now != start || state == "Z" || state == "X"
}
