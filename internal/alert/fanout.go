package alert

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

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

// FanOutWorker runs FanOutArgs jobs. Register it with river.AddWorker(workers,
// svc.Worker()).
type FanOutWorker struct {
	river.WorkerDefaults[FanOutArgs]
	svc *Service
}

// Worker returns the River worker of the service's fan-out jobs.
func (s *Service) Worker() *FanOutWorker { return &FanOutWorker{svc: s} }

// Timeout implements river.Worker.
func (w *FanOutWorker) Timeout(*river.Job[FanOutArgs]) time.Duration { return fanOutTimeout }

// Work implements river.Worker.
func (w *FanOutWorker) Work(ctx context.Context, job *river.Job[FanOutArgs]) error {
	_, err := w.svc.FanOut(ctx, job.Args.EventID)
	return err
}

// FanOut writes the alerts of event eventID for every follower of its channel not yet
// alerted, one batch per transaction, resuming after the last committed batch, and pushes
// each batch to the recipients' open pages. Running it again after it finished, or twice at
// once, alerts nobody twice: the store's cursor and the unique (user, event) key see to it.
// It returns how many alerts this call wrote. A cancelled ctx stops it between or inside a
// batch with the error; committed batches stay.
func (s *Service) FanOut(ctx context.Context, eventID int64) (int64, error) {
	a, err := s.store.EventAlert(ctx, eventID)
	if errors.Is(err, store.ErrNotFound) {
		// The channel was deleted after going live: nobody is left to alert about it.
		s.log.InfoContext(ctx, "alert: event gone before its fan-out", "event_id", eventID)
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("alert: fan-out of event %d: %w", eventID, err)
	}
	payload := a.Payload()
	var written int64
	for {
		b, err := s.store.FanOutBatch(ctx, eventID, s.batchSize, s.now())
		if err != nil {
			return written, fmt.Errorf("alert: fan-out of event %d after %d alerts: %w", eventID, written, err)
		}
		written += int64(len(b.Recipients))
		s.pushBatch(ctx, payload, b.Recipients)
		if b.Done {
			s.log.InfoContext(ctx, "alert: fan-out done", "event_id", eventID, "kind", a.Kind,
				"channel_id", a.Channel.ID, "written", written)
			return written, nil
		}
	}
}

// pushBatch tells every node's Hub who was just alerted. The alerts are already committed,
// so a lost push only means those followers see the alert on their next page load.
func (s *Service) pushBatch(ctx context.Context, p *PushPayload, users []int64) {
	if s.bus == nil || len(users) == 0 {
		return
	}
	data, err := encodeFanOut(p, users)
	if err == nil {
		err = s.bus.Publish(ctx, TopicFanOut, data)
	}
	if err != nil {
		s.log.WarnContext(ctx, "alert: push fan-out batch", "event_id", p.ID, "users", len(users), "err", err)
	}
}
