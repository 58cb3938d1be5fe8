package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/freelylive/freely/internal/bus"
	"github.com/freelylive/freely/internal/store"
)

// FanOutArgs is the River job that writes an event's alerts.
type FanOutArgs struct {
	EventID int64 `json:"event_id"`
}

// Kind implements river.JobArgs.
func (FanOutArgs) Kind() string { return "alert.fanout" }

// fanOutTimeout bounds one attempt. Progress is committed batch by batch, so an attempt cut
// short only means the retry starts where it stopped.
const fanOutTimeout = 15 * time.Minute

// FanOutOptions configures a FanOut. Store is required.
type FanOutOptions struct {
	Store Store
	// Bus carries each batch's recipients to every node's Hub; nil pushes nothing.
	Bus bus.Bus
	// BatchSize is how many followers one transaction alerts; DefaultBatchSize when 0, at
	// most MaxBatchSize.
	BatchSize int
	// MaxRate caps alerts written per second by one fan-out: DefaultMaxRate when 0, no cap
	// when negative. On SQLite the inserts run in this process and, uncapped, take a whole
	// core while they last, so page latency suffers on a small box; paced, they leave room
	// for page requests. On PostgreSQL the work runs in the database server, page latency
	// did not measurably rise uncapped, and pacing only lengthened fan-outs on a busy box:
	// use -1 there (bench/README.md).
	MaxRate int
	// AfterBatch, when set, is called after each committed batch with the running total
	// and the fan-out's context (metrics, benchmarks, tests that stop a fan-out midway). It
	// runs on the worker's goroutine: keep it short.
	AfterBatch func(ctx context.Context, eventID, written int64)
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger discards when nil.
	Logger *slog.Logger
}

// FanOut writes events' alerts for their channels' followers. It is separate from Service
// so the River worker can be registered before the queue that Service enqueues on exists.
type FanOut struct {
	store      Store
	bus        bus.Bus
	batchSize  int
	afterBatch func(context.Context, int64, int64)
	maxRate    int
	now        func() time.Time
	log        *slog.Logger
}

// NewFanOut checks opts and returns a FanOut.
func NewFanOut(opts FanOutOptions) (*FanOut, error) {
	if opts.Store == nil {
		return nil, errors.New("alert: fan-out needs a Store")
	}
	f := &FanOut{
		store:      opts.Store,
		bus:        opts.Bus,
		batchSize:  opts.BatchSize,
		afterBatch: opts.AfterBatch,
		maxRate:    opts.MaxRate,
		now:        opts.Now,
		log:        opts.Logger,
	}
	switch {
	case f.batchSize < 0 || f.batchSize > MaxBatchSize:
		return nil, fmt.Errorf("alert: batch size %d outside 1..%d", f.batchSize, MaxBatchSize)
	case f.batchSize == 0:
		f.batchSize = DefaultBatchSize
	}
	if f.maxRate == 0 {
		f.maxRate = DefaultMaxRate
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	return f, nil
}

// FanOutWorker runs FanOutArgs jobs. Register it with river.AddWorker(workers, f.Worker()).
type FanOutWorker struct {
	river.WorkerDefaults[FanOutArgs]
	fan *FanOut
}

// Worker returns the River worker of fan-out jobs.
func (f *FanOut) Worker() *FanOutWorker { return &FanOutWorker{fan: f} }

// Timeout implements river.Worker.
func (w *FanOutWorker) Timeout(*river.Job[FanOutArgs]) time.Duration { return fanOutTimeout }

// Work implements river.Worker.
func (w *FanOutWorker) Work(ctx context.Context, job *river.Job[FanOutArgs]) error {
	_, err := w.fan.Run(ctx, job.Args.EventID)
	return err
}

// Run writes the alerts of event eventID for every follower of its channel not yet alerted,
// one batch per transaction, resuming after the last committed batch, and pushes each batch
// to the recipients' open pages. Running it again after it finished, or twice at once,
// alerts nobody twice: the store's cursor and the unique (user, event) key see to it. It
// returns how many alerts this call wrote. A cancelled ctx stops it with the error;
// committed batches stay.
func (f *FanOut) Run(ctx context.Context, eventID int64) (int64, error) {
	a, err := f.store.EventAlert(ctx, eventID)
	if errors.Is(err, store.ErrNotFound) {
		// The channel was deleted after going live: nobody is left to alert about it.
		f.log.InfoContext(ctx, "alert: event gone before its fan-out", "event_id", eventID)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("alert: fan-out of event %d: %w", eventID, err)
	}
	payload := a.Payload()
	var written int64
	start := time.Now()
	for {
		b, err := f.store.FanOutBatch(ctx, eventID, f.batchSize, f.now())
		if err != nil {
			return written, fmt.Errorf("alert: fan-out of event %d after %d alerts: %w", eventID, written, err)
		}
		written += int64(len(b.Recipients))
		f.push(ctx, payload, b.Recipients)
		if f.afterBatch != nil {
			f.afterBatch(ctx, eventID, written)
		}
		if b.Done {
			f.log.InfoContext(ctx, "alert: fan-out done", "event_id", eventID, "kind", a.Kind,
				"channel_id", a.Channel.ID, "written", written, "took", time.Since(start))
			return written, nil
		}
		if err := f.pace(ctx, start, written); err != nil {
			return written, fmt.Errorf("alert: fan-out of event %d after %d alerts: %w", eventID, written, err)
		}
	}
}

// pace waits, when the rate is capped, until writing `written` alerts since start keeps to
// the cap.
func (f *FanOut) pace(ctx context.Context, start time.Time, written int64) error {
	if f.maxRate < 0 {
		return nil
	}
	ahead := time.Duration(float64(written)/float64(f.maxRate)*float64(time.Second)) - time.Since(start)
	if ahead <= 0 {
		return nil
	}
	t := time.NewTimer(ahead)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// push tells every node's Hub who was just alerted. The alerts are already committed, so a
// lost push only means those followers see the alert on their next page load.
func (f *FanOut) push(ctx context.Context, p *PushPayload, users []int64) {
	if f.bus == nil || len(users) == 0 {
		return
	}
	data, err := encodeFanOut(p, users)
	if err == nil {
		err = f.bus.Publish(ctx, TopicFanOut, data)
	}
	if err != nil {
		f.log.WarnContext(ctx, "alert: push fan-out batch", "event_id", p.ID, "users", len(users), "err", err)
	}
}
