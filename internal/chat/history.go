package chat

import "slices"

// history is a room's recent messages, oldest first, as encoded msg events: what a joining
// connection gets and what a resume is answered from without touching the database.
type history struct {
	size    int
	entries []historyEntry
	// floor: the ring holds every known undeleted message with id > floor. Older ones must
	// come from the store.
	floor int64
}

type historyEntry struct {
	id     int64
	userID int64
	event  []byte
}

func newHistory(size int) *history { return &history{size: size} }

// load fills the ring from stored messages (oldest first); complete says the store had no
// more than these.
func (h *history) load(msgs []Message, complete bool) {
	h.entries = h.entries[:0]
	for i := range msgs {
		h.entries = append(h.entries, historyEntry{id: msgs[i].ID, userID: msgs[i].UserID, event: encodeMsg(&msgs[i])})
	}
	h.floor = 0
	if !complete && len(h.entries) > 0 {
		h.floor = h.entries[0].id - 1
	}
	h.trim()
}

// add inserts a message in id order (messages from other nodes can arrive slightly out of
// order) and reports false if it was already there.
func (h *history) add(e historyEntry) bool {
	if e.id <= h.floor {
		return false
	}
	i := len(h.entries)
	for i > 0 && h.entries[i-1].id > e.id {
		i--
	}
	if i > 0 && h.entries[i-1].id == e.id {
		return false
	}
	h.entries = slices.Insert(h.entries, i, e)
	h.trim()
	return true
}

func (h *history) trim() {
	if over := len(h.entries) - h.size; over > 0 {
		h.floor = h.entries[over-1].id
		h.entries = slices.Delete(h.entries, 0, over)
	}
}

// find returns the entry with id.
func (h *history) find(id int64) (historyEntry, bool) {
	i, ok := slices.BinarySearchFunc(h.entries, id, func(e historyEntry, id int64) int {
		switch {
		case e.id < id:
			return -1
		case e.id > id:
			return 1
		}
		return 0
	})
	if !ok {
		return historyEntry{}, false
	}
	return h.entries[i], true
}

// remove deletes the entries with the given ids.
func (h *history) remove(ids []int64) {
	h.entries = slices.DeleteFunc(h.entries, func(e historyEntry) bool { return slices.Contains(ids, e.id) })
}

// clear deletes every entry with id ≤ upTo.
func (h *history) clear(upTo int64) {
	h.entries = slices.DeleteFunc(h.entries, func(e historyEntry) bool { return e.id <= upTo })
}

// last returns the newest n events, oldest first.
func (h *history) last(n int) [][]byte {
	from := max(0, len(h.entries)-n)
	out := make([][]byte, 0, len(h.entries)-from)
	for _, e := range h.entries[from:] {
		out = append(out, e.event)
	}
	return out
}

// after returns up to n events with id > after, oldest first, and whether the ring could
// answer (after ≥ floor); when it cannot, the caller asks the store.
func (h *history) after(after int64, n int) (events [][]byte, ids []int64, ok bool) {
	if after < h.floor {
		return nil, nil, false
	}
	for _, e := range h.entries {
		if e.id > after && len(events) < n {
			events = append(events, e.event)
			ids = append(ids, e.id)
		}
	}
	return events, ids, true
}

// newest returns the id of the newest message, 0 if none.
func (h *history) newest() int64 {
	if len(h.entries) == 0 {
		return h.floor
	}
	return h.entries[len(h.entries)-1].id
}
