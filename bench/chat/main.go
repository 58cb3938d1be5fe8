// Command chat is the chat load tool. It starts the chat server (a real hub on SQLite with
// the in-process bus and the WebSocket endpoint) as a child process, opens N WebSocket
// clients to one room on loopback, lets a subset send M messages a second in total and
// measures, for messages sent during the measurement window:
//
//   - deliveries per second and the share of (messages × clients) delivered;
//   - delivery latency, send → frame received by a client, p50 / p99 / max;
//   - the server's CPU (cores, and CPU time per frame written: a figure that holds even when
//     other work on the machine leaves the server too little CPU to keep up) and resident
//     memory (now and peak), read from /proc.
//
// Each room size runs against a fresh server process:
//
//	go run ./bench/chat -clients 1000,5000,10000 -senders 100 -rate 100 -duration 20s
//
// The load generator runs on the same machine and competes with the server for CPU.
// -floor B measures the machine's floor instead: plain loopback TCP writes of B bytes to
// each of -clients connections, CPU per write with both ends in this process.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"strconv"
	"strings"
	"time"
)

type config struct {
	senders  int
	rate     float64
	duration time.Duration
	warmup   time.Duration
	drain    time.Duration
	coalesce time.Duration
	queue    int
	profile  string
}

func main() {
	var (
		serveMode = flag.Bool("serve", false, "run the server under test (used by the tool itself)")
		clients   = flag.String("clients", "1000,5000,10000", "room sizes to measure, comma-separated")
		floor     = flag.Int("floor", 0, "instead of chat, measure plain loopback TCP writes of this many bytes to each of -clients connections (the machine's floor)")
		cfg       config
	)
	flag.IntVar(&cfg.senders, "senders", 100, "how many of the clients send")
	flag.Float64Var(&cfg.rate, "rate", 100, "messages per second sent in total")
	flag.DurationVar(&cfg.duration, "duration", 20*time.Second, "measurement window")
	flag.DurationVar(&cfg.warmup, "warmup", 3*time.Second, "sending before the window opens")
	flag.DurationVar(&cfg.drain, "drain", 5*time.Second, "longest wait for the last deliveries")
	flag.DurationVar(&cfg.coalesce, "coalesce", 0, "server's coalescing interval (0: the default)")
	flag.IntVar(&cfg.queue, "queue", 0, "server's per-connection send queue in events (0: the default)")
	flag.StringVar(&cfg.profile, "profile", "", "directory for the server's CPU and heap profiles (heap taken with every client connected)")
	flag.Parse()
	log.SetFlags(0)
	if *serveMode {
		if err := serve(cfg.coalesce, cfg.queue, cfg.profile); err != nil {
			log.Fatalf("server: %v", err)
		}
		return
	}
	raiseFileLimit()
	var sizes []int
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			log.Fatalf("bad -clients %q", *clients)
		}
		sizes = append(sizes, n)
	}
	if *floor > 0 {
		for _, n := range sizes {
			if err := measureFloor(n, *floor, cfg.duration); err != nil {
				log.Fatalf("floor: %v", err)
			}
		}
		return
	}
	fmt.Printf("senders %d, %.0f msg/s in, window %v, coalesce %v, %s\n\n", cfg.senders, cfg.rate, cfg.duration, orDefault(cfg.coalesce), time.Now().Format("2006-01-02"))
	fmt.Println("| clients | connect | msgs in/s | deliveries/s | delivered | p50 | p99 | max | server CPU | server µs/frame | writes/frame | server RSS | peak RSS | dropped | load-tool CPU |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range sizes {
		r, err := run(cfg, n)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%d clients: %v\n", n, err)
			os.Exit(1)
		}
		secs := r.measured.Seconds()
		share := 0.0
		if r.sent > 0 {
			share = 100 * float64(r.delivered) / float64(r.sent*int64(r.clients))
		}
		perFrame := 0.0
		if r.frames > 0 {
			perFrame = r.cpu * secs * 1e6 / float64(r.frames)
		}
		writesPerFrame := "?"
		if r.writes >= 0 && r.frames > 0 {
			writesPerFrame = fmt.Sprintf("%.2f", float64(r.writes)/float64(r.frames))
		}
		fmt.Printf("| %d | %.1fs | %.0f | %.0f | %.2f%% | %s | %s | %s | %.2f | %.1f | %s | %d MB | %d MB | %d | %.2f |\n",
			r.clients, r.connect.Seconds(), float64(r.sent)/secs, float64(r.delivered)/secs, share,
			ms(r.p50), ms(r.p99), ms(r.max), r.cpu, perFrame, writesPerFrame, r.rss>>20, r.peak>>20, r.ended, r.clientCPU)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

func orDefault(d time.Duration) string {
	if d == 0 {
		return "default"
	}
	return d.String()
}
