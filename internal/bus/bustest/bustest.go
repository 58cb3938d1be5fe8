// Package bustest is the conformance suite every bus.Bus implementation passes. Run covers one
// node; RunMultiNode covers backends shared by several nodes (Redis), where a message
// published on one Bus must reach subscribers on another. It imports only the bus port.
//
// Contract checked here, beyond the doc comments of bus.Bus:
//   - a message published after Subscribe returns is delivered (no subscription warm-up race);
//   - Publish and Subscribe fail on a cancelled context and after Close;
//   - a subscriber buffers at least 64 messages before it starts dropping;
//   - the bus copies Data: a publisher may reuse its buffer once Publish returns.
package bustest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/freelylive/freely/internal/bus"
)

// waitLimit bounds every wait for a message; reaching it is a failure, never a pacing device.
const waitLimit = 10 * time.Second

// Run runs the single-node suite. newBus returns a fresh bus isolated from every other bus
// it returns (tests run in parallel); it should register its own cleanup.
func Run(t *testing.T, newBus func(t *testing.T) bus.Bus) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b bus.Bus)
	}{
		{"Delivers", testDelivers},
		{"TopicIsolation", testTopicIsolation},
		{"FanOut", testFanOut},
		{"OrderPerPublisher", testOrderPerPublisher},
		{"Unsubscribe", testUnsubscribe},
		{"CloseBus", testCloseBus},
		{"SlowSubscriberDoesNotBlockPublisher", testSlowSubscriber},
		{"DataIsCopied", testDataIsCopied},
		{"CancelledContext", testCancelledContext},
		{"ConcurrentUse", testConcurrentUse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, newBus(t))
		})
	}
}

// RunMultiNode runs the suite for shared backends. newNodes returns two buses that behave as
// two nodes on one backend, isolated from every other pair it returns.
func RunMultiNode(t *testing.T, newNodes func(t *testing.T) (bus.Bus, bus.Bus)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, a, b bus.Bus)
	}{
		{"CrossNodeDelivery", testCrossNodeDelivery},
		{"CrossNodeTopicIsolation", testCrossNodeTopicIsolation},
		{"CrossNodeOrder", testCrossNodeOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := newNodes(t)
			tt.fn(t, a, b)
		})
	}
}

// --- helpers ---

func subscribe(t *testing.T, b bus.Bus, topic string) bus.Subscription {
	t.Helper()
	sub, err := b.Subscribe(t.Context(), topic)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", topic, err)
	}
	t.Cleanup(func() { sub.Close() })
	return sub
}

func publish(t *testing.T, b bus.Bus, topic, data string) {
	t.Helper()
	if err := b.Publish(t.Context(), topic, []byte(data)); err != nil {
		t.Fatalf("Publish(%q, %q): %v", topic, data, err)
	}
}

// receive returns the next message or fails the test after waitLimit.
func receive(t *testing.T, sub bus.Subscription) bus.Message {
	t.Helper()
	select {
	case m, ok := <-sub.C():
		if !ok {
			t.Fatal("subscription channel closed while a message was expected")
		}
		return m
	case <-time.After(waitLimit):
		t.Fatalf("no message within %s", waitLimit)
		return bus.Message{}
	}
}

func expect(t *testing.T, sub bus.Subscription, topic string, data ...string) {
	t.Helper()
	for _, want := range data {
		m := receive(t, sub)
		if m.Topic != topic || string(m.Data) != want {
			t.Fatalf("got %q on %q, want %q on %q", m.Data, m.Topic, want, topic)
		}
	}
}

// waitClosed drains sub until its channel is closed.
func waitClosed(t *testing.T, sub bus.Subscription) {
	t.Helper()
	deadline := time.After(waitLimit)
	for {
		select {
		case _, ok := <-sub.C():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("subscription channel not closed")
		}
	}
}

// topicName gives each test its own topic so shared backends cannot cross-talk.
func topicName(t *testing.T, suffix string) string {
	return strings.NewReplacer("/", ".", " ", "_").Replace(t.Name()) + "." + suffix
}

// --- single node ---

func testDelivers(t *testing.T, b bus.Bus) {
	topic := topicName(t, "chat")
	sub := subscribe(t, b, topic)
	publish(t, b, topic, `{"text":"안녕하세요"}`)
	expect(t, sub, topic, `{"text":"안녕하세요"}`)
	if sub.Dropped() != 0 {
		t.Errorf("Dropped = %d", sub.Dropped())
	}
}

func testTopicIsolation(t *testing.T, b bus.Bus) {
	ta, tb := topicName(t, "a"), topicName(t, "b")
	subA, subB := subscribe(t, b, ta), subscribe(t, b, tb)
	publish(t, b, ta, "a1")
	publish(t, b, tb, "b1")
	publish(t, b, ta, "a2")
	publish(t, b, tb, "b2")
	// Had b1 leaked to subA, it would arrive between a1 and a2.
	expect(t, subA, ta, "a1", "a2")
	expect(t, subB, tb, "b1", "b2")
	unheard := topicName(t, "nobody")
	publish(t, b, unheard, "x") // publishing to a topic without subscribers is fine
}

func testFanOut(t *testing.T, b bus.Bus) {
	topic := topicName(t, "room")
	subs := make([]bus.Subscription, 20)
	for i := range subs {
		subs[i] = subscribe(t, b, topic)
	}
	const n = 50
	want := make([]string, n)
	for i := range n {
		want[i] = strconv.Itoa(i)
		publish(t, b, topic, want[i])
	}
	for _, sub := range subs {
		expect(t, sub, topic, want...)
	}
}

// publishSequence publishes "<publisher>:<i>" for i in [0, n).
func publishSequence(t *testing.T, b bus.Bus, topic string, publisher, n int) {
	for i := range n {
		if err := b.Publish(t.Context(), topic, fmt.Appendf(nil, "%d:%d", publisher, i)); err != nil {
			t.Errorf("publish: %v", err)
			return
		}
	}
}

// checkOrder reads total messages (minus drops) and checks each publisher's sequence only
// goes up.
func checkOrder(t *testing.T, sub bus.Subscription, publishers, perPublisher int) {
	t.Helper()
	last := make([]int, publishers)
	for i := range last {
		last[i] = -1
	}
	total := publishers * perPublisher
	received := 0
	deadline := time.After(waitLimit)
	for received+int(sub.Dropped()) < total {
		select {
		case m := <-sub.C():
			received++
			p, seq, ok := strings.Cut(string(m.Data), ":")
			pi, err1 := strconv.Atoi(p)
			si, err2 := strconv.Atoi(seq)
			if !ok || err1 != nil || err2 != nil || pi < 0 || pi >= publishers {
				t.Fatalf("unexpected message %q", m.Data)
			}
			if si <= last[pi] {
				t.Fatalf("publisher %d: message %d arrived after %d", pi, si, last[pi])
			}
			last[pi] = si
		case <-time.After(10 * time.Millisecond):
			// Drops may be counted by a backend's reader goroutine after the fact; look again.
		case <-deadline:
			t.Fatalf("received %d + dropped %d of %d", received, sub.Dropped(), total)
		}
	}
	if received == 0 {
		t.Fatal("nothing received")
	}
}

func testOrderPerPublisher(t *testing.T, b bus.Bus) {
	topic := topicName(t, "seq")
	sub := subscribe(t, b, topic)
	const publishers, perPublisher = 4, 200
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() { publishSequence(t, b, topic, p, perPublisher) })
	}
	checkOrder(t, sub, publishers, perPublisher)
	wg.Wait()
}

func testUnsubscribe(t *testing.T, b bus.Bus) {
	topic := topicName(t, "leave")
	leaving, staying := subscribe(t, b, topic), subscribe(t, b, topic)
	publish(t, b, topic, "before")
	expect(t, leaving, topic, "before")
	if err := leaving.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := leaving.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	waitClosed(t, leaving)
	publish(t, b, topic, "after")
	expect(t, staying, topic, "before", "after")
}

func testCloseBus(t *testing.T, b bus.Bus) {
	topic := topicName(t, "end")
	subs := []bus.Subscription{subscribe(t, b, topic), subscribe(t, b, topicName(t, "other"))}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, sub := range subs {
		waitClosed(t, sub)
		if err := sub.Close(); err != nil {
			t.Errorf("Subscription.Close after Bus.Close: %v", err)
		}
	}
	if err := b.Publish(t.Context(), topic, []byte("late")); err == nil {
		t.Error("Publish after Close succeeded")
	}
	if sub, err := b.Subscribe(t.Context(), topic); err == nil {
		sub.Close()
		t.Error("Subscribe after Close succeeded")
	}
}

func testSlowSubscriber(t *testing.T, b bus.Bus) {
	topic := topicName(t, "flood")
	slow := subscribe(t, b, topic) // never reads until the flood is over
	fast := subscribe(t, b, topic)
	const n = 5000

	fastDone := make(chan int)
	go func() {
		got := 0
		deadline := time.After(waitLimit)
		for got+int(fast.Dropped()) < n {
			select {
			case <-fast.C():
				got++
			case <-time.After(10 * time.Millisecond): // recheck drops counted asynchronously
			case <-deadline:
				fastDone <- got
				return
			}
		}
		fastDone <- got
	}()

	published := make(chan error, 1)
	go func() {
		for i := range n {
			if err := b.Publish(context.Background(), topic, []byte(strconv.Itoa(i))); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	select {
	case err := <-published:
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a subscriber that does not read blocked the publisher")
	}
	if got := <-fastDone; got == 0 {
		t.Error("the reading subscriber received nothing")
	}

	// The slow subscriber lost messages and said so; what it kept adds up.
	received := 0
	deadline := time.After(waitLimit)
	for received+int(slow.Dropped()) < n {
		select {
		case <-slow.C():
			received++
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("slow subscriber: received %d + dropped %d, want %d", received, slow.Dropped(), n)
		}
	}
	if slow.Dropped() == 0 {
		t.Error("the slow subscriber dropped nothing; its buffer cannot hold everything")
	}
	if received < 64 {
		t.Errorf("slow subscriber kept only %d messages; the suite expects a buffer of at least 64", received)
	}
}

func testDataIsCopied(t *testing.T, b bus.Bus) {
	topic := topicName(t, "copy")
	sub := subscribe(t, b, topic)
	buf := []byte("original")
	if err := b.Publish(t.Context(), topic, buf); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX")
	expect(t, sub, topic, "original")
}

func testCancelledContext(t *testing.T, b bus.Bus) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	topic := topicName(t, "cancel")
	if err := b.Publish(ctx, topic, []byte("x")); err == nil {
		t.Error("Publish with a cancelled context succeeded")
	}
	if sub, err := b.Subscribe(ctx, topic); err == nil {
		sub.Close()
		t.Error("Subscribe with a cancelled context succeeded")
	}
}

func testConcurrentUse(t *testing.T, b bus.Bus) {
	topics := []string{topicName(t, "0"), topicName(t, "1"), topicName(t, "2")}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 30 {
				topic := topics[(w+i)%len(topics)]
				sub, err := b.Subscribe(t.Context(), topic)
				if err != nil {
					t.Errorf("Subscribe: %v", err)
					return
				}
				if err := b.Publish(t.Context(), topic, []byte("x")); err != nil {
					t.Errorf("Publish: %v", err)
				}
				// Receives at least its own message (others' may come first).
				select {
				case <-sub.C():
				case <-time.After(waitLimit):
					t.Error("own message never arrived")
				}
				sub.Close()
			}
		})
	}
	wg.Wait()
}

// --- several nodes ---

func testCrossNodeDelivery(t *testing.T, a, b bus.Bus) {
	topic := topicName(t, "live")
	onA, onB := subscribe(t, a, topic), subscribe(t, b, topic)
	publish(t, a, topic, "from a")
	expect(t, onA, topic, "from a")
	expect(t, onB, topic, "from a")
	publish(t, b, topic, "from b")
	expect(t, onA, topic, "from b")
	expect(t, onB, topic, "from b")
}

func testCrossNodeTopicIsolation(t *testing.T, a, b bus.Bus) {
	t1, t2 := topicName(t, "1"), topicName(t, "2")
	sub1 := subscribe(t, b, t1)
	publish(t, a, t2, "other")
	publish(t, a, t1, "mine")
	expect(t, sub1, t1, "mine")
}

func testCrossNodeOrder(t *testing.T, a, b bus.Bus) {
	topic := topicName(t, "seq")
	sub := subscribe(t, b, topic)
	const publishers, perPublisher = 2, 200
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() { publishSequence(t, a, topic, p, perPublisher) })
	}
	checkOrder(t, sub, publishers, perPublisher)
	wg.Wait()
}
