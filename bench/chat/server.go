package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/freelylive/freely/internal/account"
	"github.com/freelylive/freely/internal/bus/mem"
	"github.com/freelylive/freely/internal/channel"
	"github.com/freelylive/freely/internal/chat"
	"github.com/freelylive/freely/internal/chat/ws"
	"github.com/freelylive/freely/internal/store/sqlstore"
)

// benchUserBase offsets the synthetic senders' ids from real accounts.
const benchUserBase = 1_000_000

// serve runs the chat server under test in this (child) process: a real hub on a SQLite
// database in a temporary directory, the in-process bus and the WebSocket endpoint. It
// prints "ADDR host:port CHANNEL id" when ready and shuts down gracefully on SIGTERM.
//
// Its Authenticate stands in for the session lookup of the web layer: a "bench" cookie
// names a synthetic verified user. It exists only in this tool.
func serve(coalesce time.Duration, sendQueue int, profileDir string) error {
	raiseFileLimit()
	if profileDir != "" {
		f, err := os.Create(filepath.Join(profileDir, "cpu.pprof"))
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	dir, err := os.MkdirTemp("", "freely-chat-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Options{DataDir: dir})
	if err != nil {
		return err
	}
	defer db.Close()
	owner := &account.User{Email: "owner@bench.invalid", Nickname: "방장", PasswordHash: "x", EmailVerifiedAt: time.Now()}
	ch := &channel.Channel{Handle: "bench", DisplayName: "벤치"}
	if err := db.CreateUserWithChannel(ctx, owner, ch); err != nil {
		return err
	}
	b := mem.New(mem.Options{})
	defer b.Close()
	hub, err := chat.NewHub(chat.Options{
		Store: sqlstore.NewChatStore(db), Bus: b, Channels: db, Users: db, NodeID: 1,
		// The load generator's senders send at a steady rate; the rules under test here are
		// fan-out and persistence, not the per-user limits.
		Limits:           chat.SendLimits{Rate: 50, Burst: 100, DuplicateWindow: -1},
		CoalesceInterval: coalesce,
		SendQueue:        sendQueue,
	})
	if err != nil {
		return err
	}
	now := time.Now()
	handler := ws.NewHandler(ws.Options{
		Hub: hub,
		Authenticate: func(r *http.Request) (*account.User, error) {
			c, err := r.Cookie("bench")
			if err != nil {
				return nil, nil
			}
			n, err := strconv.ParseInt(c.Value, 10, 64)
			if err != nil {
				return nil, nil
			}
			return &account.User{ID: benchUserBase + n, Nickname: "bench" + c.Value, EmailVerifiedAt: now}, nil
		},
		MessageRate: 50, MessageBurst: 100,
	})
	mux := http.NewServeMux()
	mux.Handle("GET /ws/chat/{channel}", handler)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("ADDR %s CHANNEL %d\n", ln.Addr(), ch.ID)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt, syscall.SIGUSR1)
	for s := range sig {
		if s != syscall.SIGUSR1 {
			break
		}
		// Sent at the end of the measurement window, with every client connected.
		if profileDir != "" {
			f, err := os.Create(filepath.Join(profileDir, "heap.pprof"))
			if err != nil {
				return err
			}
			pprof.WriteHeapProfile(f)
			f.Close()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			fmt.Fprintf(os.Stderr, "server: %d goroutines, heap in use %d MB, stacks %d MB, sys %d MB\n",
				runtime.NumGoroutine(), ms.HeapInuse>>20, ms.StackInuse>>20, ms.Sys>>20)
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hubErr := hub.Close(sctx) // writes every queued message, closes the sockets
	srv.Close()
	st := hub.Stats()
	fmt.Fprintf(os.Stderr, "server: stored %d messages, lost %d\n", st.StoredMessages, st.LostMessages)
	return hubErr
}

// server is the child process running serve.
type server struct {
	cmd       *exec.Cmd
	addr      string
	channelID int64
}

func startServer(coalesce time.Duration, sendQueue int, profileDir string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve", "-coalesce", coalesce.String(), "-queue", strconv.Itoa(sendQueue), "-profile", profileDir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("server did not start: %w", err)
	}
	var s server
	if _, err := fmt.Sscanf(strings.TrimSpace(line), "ADDR %s CHANNEL %d", &s.addr, &s.channelID); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("server said %q: %w", line, err)
	}
	s.cmd = cmd
	return &s, nil
}

// stop ends the server by its pid and waits for its graceful shutdown.
func (s *server) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(45 * time.Second):
		s.cmd.Process.Kill()
		return errors.New("server did not stop in time; killed")
	}
}

// procStats reads a process's resident memory (now and peak, bytes) and CPU time used.
func procStats(pid int) (rss, peak int64, cpu time.Duration, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "VmRSS:" || f[0] == "VmHWM:") {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			if f[0] == "VmRSS:" {
				rss = kb * 1024
			} else {
				peak = kb * 1024
			}
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, err
	}
	// Fields after the command name (which may hold spaces) start after the last ')'.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	cpu = time.Duration(utime+stime) * time.Second / ticks
	return rss, peak, cpu, nil
}

func raiseFileLimit() {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) == nil && l.Cur < l.Max {
		l.Cur = l.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
	}
}

// writeSyscalls returns how many write system calls the process has made (syscw in
// /proc/PID/io), or -1 when the kernel does not say.
func writeSyscalls(pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "syscw:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}
