package chat

import (
	"testing"
	"time"
)

func TestFanoutReadersSeeOnlyPublishedEvents(t *testing.T) {
	f := newFanout(8)
	var round uint64
	f.append([]byte(`{"a":1}`))
	if data, _, _, _ := f.frame(0, maxEventsPerFrame, &round); data != nil {
		t.Fatalf("frame before signal = %s, want nothing", data)
	}
	f.signal()
	data, next, _, overrun := f.frame(0, maxEventsPerFrame, &round)
	if overrun || next != 1 || string(data) != `[{"a":1}]` {
		t.Fatalf("frame after signal = %q next %d overrun %v", data, next, overrun)
	}
}

func TestFanoutUpToDateReadersShareOneFrame(t *testing.T) {
	f := newFanout(8)
	f.append([]byte(`{"a":1}`))
	f.append([]byte(`{"b":2}`))
	f.signal()
	var r1, r2 uint64
	a, _, _, _ := f.frame(0, maxEventsPerFrame, &r1)
	b, _, _, _ := f.frame(0, maxEventsPerFrame, &r2)
	if string(a) != `[{"a":1},{"b":2}]` {
		t.Fatalf("frame = %s", a)
	}
	if &a[0] != &b[0] {
		t.Fatal("two readers at the same position got separately encoded frames")
	}
}

func TestFanoutLaggingReaderGetsEverythingMissed(t *testing.T) {
	f := newFanout(8)
	var lag, cur uint64
	f.append([]byte(`1`))
	f.signal()
	f.frame(0, maxEventsPerFrame, &cur)
	f.append([]byte(`2`))
	f.append([]byte(`3`))
	f.signal()
	data, next, _, _ := f.frame(0, maxEventsPerFrame, &lag)
	if string(data) != `[1,2,3]` || next != 3 {
		t.Fatalf("lagging reader got %s (next %d), want [1,2,3]", data, next)
	}
	data, next, _, _ = f.frame(1, maxEventsPerFrame, &cur)
	if string(data) != `[2,3]` || next != 3 {
		t.Fatalf("up-to-date reader got %s (next %d), want [2,3]", data, next)
	}
	if data, _, _, _ := f.frame(0, 2, &lag); string(data) != `[1,2]` {
		t.Fatalf("frame capped at 2 events = %s", data)
	}
}

func TestFanoutOverrun(t *testing.T) {
	f := newFanout(4)
	var round uint64
	for range 6 {
		f.append([]byte(`x`))
	}
	f.signal()
	if _, _, _, overrun := f.frame(0, maxEventsPerFrame, &round); !overrun {
		t.Fatal("a reader 6 events behind a ring of 4 was not told it overran")
	}
	if _, _, _, overrun := f.frame(2, maxEventsPerFrame, &round); overrun {
		t.Fatal("a reader within the ring was told it overran")
	}
}

func TestFanoutRoundDoneCountsEachReaderOnce(t *testing.T) {
	f := newFanout(8)
	f.readers.Store(2)
	f.append([]byte(`1`))
	f.signal()
	var r1, r2 uint64
	f.frame(0, maxEventsPerFrame, &r1)
	f.frame(1, maxEventsPerFrame, &r1) // caught up, asks again: still one reader
	if f.roundDone() {
		t.Fatal("round done with one of two readers caught up")
	}
	f.frame(0, maxEventsPerFrame, &r2)
	if !f.roundDone() {
		t.Fatal("round not done with both readers caught up")
	}
	f.append([]byte(`2`))
	f.signal()
	if f.roundDone() {
		t.Fatal("a new round starts done")
	}
}

// A busy room whose readers have not finished the previous round holds the next signal
// until they have (or maxHold passes), then publishes everything that arrived meanwhile.
func TestFanoutCoalesceWaitsForTheRound(t *testing.T) {
	f := newFanout(64)
	f.readers.Store(1)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() { f.coalesce(done, time.Millisecond, 1_000_000); close(stopped) }()
	defer func() { close(done); <-stopped }()

	var round uint64
	f.mu.RLock()
	wake := f.wake
	f.mu.RUnlock()
	f.append([]byte(`1`))
	<-wake // the first event after a quiet spell goes out at once
	f.mu.RLock()
	wake = f.wake
	f.mu.RUnlock()
	f.append([]byte(`2`))
	select {
	case <-wake:
		t.Fatal("signalled again before the only reader took the first round")
	case <-time.After(50 * time.Millisecond):
	}
	data, _, _, _ := f.frame(0, maxEventsPerFrame, &round)
	if string(data) != `[1]` {
		t.Fatalf("first round = %s", data)
	}
	select {
	case <-wake:
	case <-time.After(time.Second):
		t.Fatal("no signal after the reader caught up")
	}
	if data, _, _, _ := f.frame(1, maxEventsPerFrame, &round); string(data) != `[2]` {
		t.Fatalf("second round = %s", data)
	}
}
