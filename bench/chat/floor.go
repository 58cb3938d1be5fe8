package main

import (
	"fmt"
	"io"
	"net"
	"time"
)

// measureFloor times the cheapest possible fan-out on this machine: plain TCP on loopback,
// one goroutine writing size bytes to each of n connections in turn while a goroutine per
// connection reads and discards, all in this process. The CPU per write (both ends, no
// WebSocket, no JSON, no chat) is the floor under the server's and the clients' share of a
// chat frame: a room of N clients at F frames per second each needs at least
// N × F × floor of CPU.
func measureFloor(n, size int, d time.Duration) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
	buf := make([]byte, size)
	start, cpu0 := time.Now(), selfCPU()
	writes := 0
	for time.Since(start) < d {
		for _, c := range conns {
			if _, err := c.Write(buf); err != nil {
				return err
			}
			writes++
		}
	}
	wall, cpu := time.Since(start), selfCPU()-cpu0
	fmt.Printf("floor: %d connections, %d-byte writes: %.0f writes/s, %.1f µs CPU per write (writer + reader), %.2f cores\n",
		n, size, float64(writes)/wall.Seconds(), float64(cpu.Nanoseconds())/1e3/float64(writes), cpu.Seconds()/wall.Seconds())
	return nil
}
