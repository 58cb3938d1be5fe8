package main

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// rawReader is the receive side of a WebSocket client with nothing but what reading needs:
// the opening handshake, unmasked server frames, fragmented messages, pongs for pings and
// the close handshake. The room's readers use it instead of a full client library so that
// the load generator, which shares the machine with the server, spends as little CPU per
// frame as the socket allows and the figures describe the server. Senders use
// coder/websocket.
type rawReader struct {
	conn net.Conn
	br   *bufio.Reader
	msg  []byte
}

// dialRaw opens a WebSocket to ws://addr/path.
func dialRaw(addr, path string, timeout time.Duration) (*rawReader, error) {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(timeout))
	var nonce [16]byte
	rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		conn.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(conn, 8<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	resp.Body.Close()
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != base64.StdEncoding.EncodeToString(sum[:]) {
		conn.Close()
		return nil, fmt.Errorf("handshake: %s", resp.Status)
	}
	conn.SetDeadline(time.Time{})
	return &rawReader{conn: conn, br: br, msg: make([]byte, 0, 4<<10)}, nil
}

var errClosed = errors.New("closed by the server")

// next returns the next text or binary message, valid until the following call.
func (r *rawReader) next() ([]byte, error) {
	r.msg = r.msg[:0]
	for {
		var h [14]byte
		if _, err := io.ReadFull(r.br, h[:2]); err != nil {
			return nil, err
		}
		fin, opcode := h[0]&0x80 != 0, h[0]&0x0f
		if h[1]&0x80 != 0 {
			return nil, errors.New("masked frame from the server")
		}
		n := uint64(h[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(r.br, h[2:4]); err != nil {
				return nil, err
			}
			n = uint64(binary.BigEndian.Uint16(h[2:4]))
		case 127:
			if _, err := io.ReadFull(r.br, h[2:10]); err != nil {
				return nil, err
			}
			n = binary.BigEndian.Uint64(h[2:10])
		}
		if n > 1<<24 {
			return nil, fmt.Errorf("frame of %d bytes", n)
		}
		start := len(r.msg)
		r.msg = append(r.msg, make([]byte, n)...)
		if _, err := io.ReadFull(r.br, r.msg[start:]); err != nil {
			return nil, err
		}
		switch opcode {
		case 0x8: // close: answer it and stop
			r.control(0x8, r.msg[start:start+min(int(n), 2)])
			return nil, errClosed
		case 0x9: // ping
			r.control(0xA, r.msg[start:])
			r.msg = r.msg[:start]
			continue
		case 0xA: // pong
			r.msg = r.msg[:start]
			continue
		}
		if fin {
			return r.msg, nil
		}
	}
}

// control writes a masked control frame (clients must mask what they send).
func (r *rawReader) control(opcode byte, payload []byte) error {
	payload = payload[:min(len(payload), 125)]
	f := make([]byte, 6, 6+len(payload))
	f[0], f[1] = 0x80|opcode, 0x80|byte(len(payload))
	rand.Read(f[2:6])
	for i, b := range payload {
		f = append(f, b^f[2+i%4])
	}
	_, err := r.conn.Write(f)
	return err
}
