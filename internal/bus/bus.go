// Package bus is the publish/subscribe port that carries events between parts of the platform
// and, in scale-out deployments, between nodes. Implementations: bus/mem (in-process, the
// default) and bus/redis. bus/bustest holds the conformance suite every implementation passes.
package bus

import "context"

// Message is one event on a topic. Data is opaque to the bus (JSON by convention).
type Message struct {
	Topic string
	Data  []byte
}

// Bus publishes messages to topics and delivers them to every current subscriber of the topic,
// on this node and on every other node sharing the same backend.
type Bus interface {
	// Publish sends data to every subscriber of topic. It does not wait for subscribers to
	// handle the message. It returns an error only if the message could not be handed to the
	// backend; delivery to a subscriber that is gone is not an error.
	Publish(ctx context.Context, topic string, data []byte) error

	// Subscribe starts delivering messages published to topic after Subscribe returns. A
	// subscriber that falls behind by more than its buffer loses messages rather than slowing
	// the publisher; Subscription.Dropped counts them.
	Subscribe(ctx context.Context, topic string) (Subscription, error)

	// Close releases the bus; subscriptions' channels are closed.
	Close() error
}

// Subscription is one subscriber's view of a topic.
type Subscription interface {
	// C delivers messages in publish order (per publisher). It is closed after Close.
	C() <-chan Message
	// Dropped reports how many messages were discarded because the subscriber fell behind.
	Dropped() uint64
	// Close stops delivery and closes C. It is idempotent.
	Close() error
}
