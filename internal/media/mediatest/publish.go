package mediatest

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/bluenviron/gortmplib"
	"github.com/bluenviron/gortmplib/pkg/bytecounter"
	"github.com/bluenviron/gortmplib/pkg/rawmessage"
)

// Chunk stream ids as ffmpeg uses them.
const (
	csidData  = 4
	csidAudio = 4
	csidVideo = 6
	// msid is the message stream id gortmplib's client publishes on.
	msid = 0x1000000
	// clientChunkSize is what gortmplib's client announces during Initialize.
	clientChunkSize = 65536
)

// Conn is a publishing RTMP client that sends raw FLV tag bodies, as ffmpeg and OBS do.
type Conn struct {
	c *gortmplib.Client
	w *rawmessage.Writer
}

// Dial connects to rawURL (rtmp://HOST:PORT/APP/KEY) and asks to publish. A refused key or a
// refused second publisher makes it fail.
func Dial(ctx context.Context, rawURL string) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	// gortmplib's client takes the stream key from the fragment: rtmp://host/app#key.
	if u.Fragment == "" {
		dir, key := splitLast(u.Path)
		u.Path, u.Fragment = dir, key
	}
	c := &gortmplib.Client{URL: u, Publish: true}
	if err := c.Initialize(ctx); err != nil {
		return nil, fmt.Errorf("rtmp publish %s: %w", u.Redacted(), err)
	}
	bc := bytecounter.NewWriter(c.NetConn())
	w := rawmessage.NewWriter(bc, bc, false)
	w.SetChunkSize(clientChunkSize)
	return &Conn{c: c, w: w}, nil
}

func splitLast(p string) (string, string) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i], p[i+1:]
		}
	}
	return "", p
}

// amf0SetDataFrame is the AMF0 string "@setDataFrame" that precedes onMetaData when a publisher
// sends metadata.
var amf0SetDataFrame = append([]byte{0x02, 0x00, 13}, "@setDataFrame"...)

// WriteTag sends one tag with the given timestamp.
func (c *Conn) WriteTag(tag Tag, ts time.Duration) error {
	msg := &rawmessage.Message{Timestamp: ts, Type: tag.Type, MessageStreamID: msid, Body: tag.Body}
	switch tag.Type {
	case TagVideo:
		msg.ChunkStreamID = csidVideo
	case TagAudio:
		msg.ChunkStreamID = csidAudio
	case TagScript:
		msg.ChunkStreamID = csidData
		msg.Body = append(append([]byte(nil), amf0SetDataFrame...), tag.Body...)
	default:
		return nil
	}
	return c.w.Write(msg)
}

// SendOptions controls Send.
type SendOptions struct {
	// Pace is the speed relative to real time: 1 sends each tag when its timestamp is due,
	// 0 sends as fast as possible.
	Pace float64
	// Loops repeats the tags this many times (default 1), timestamps continuing.
	Loops int
	// Offset is added to every timestamp.
	Offset time.Duration
	// OnTag, if set, is called right after each tag is written.
	OnTag func(tag Tag, ts time.Duration, sent time.Time)
}

// Send writes the tags, pacing them as asked. Script tags are sent only in the first loop.
func (c *Conn) Send(ctx context.Context, tags []Tag, opts SendOptions) error {
	if opts.Loops <= 0 {
		opts.Loops = 1
	}
	span := Duration(tags)
	start := time.Now()
	var first time.Duration = -1
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for loop := range opts.Loops {
		for _, tag := range tags {
			if tag.Type == TagScript && loop > 0 {
				continue
			}
			ts := tag.Timestamp + time.Duration(loop)*span + opts.Offset
			if first < 0 {
				first = ts
			}
			if opts.Pace > 0 {
				due := start.Add(time.Duration(float64(ts-first) / opts.Pace))
				if d := time.Until(due); d > 0 {
					timer.Reset(d)
					select {
					case <-timer.C:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			} else if err := ctx.Err(); err != nil {
				return err
			}
			if err := c.WriteTag(tag, ts); err != nil {
				return fmt.Errorf("send tag at %v: %w", ts, err)
			}
			if opts.OnTag != nil {
				opts.OnTag(tag, ts, time.Now())
			}
		}
	}
	return nil
}

// Close disconnects.
func (c *Conn) Close() { c.c.Close() }

// Publish dials, sends the tags and disconnects.
func Publish(ctx context.Context, rawURL string, tags []Tag, opts SendOptions) error {
	c, err := Dial(ctx, rawURL)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Send(ctx, tags, opts)
}
