// Package chat owns live chat: rooms (one per channel), the rules a message must pass
// (cleaning, length, rate, duplicates, slow mode, the profanity filter), moderation and
// permissions, message ids, history and resume, batched persistence and the replication of
// everything through bus.Bus so a room spans nodes.
//
// It is transport-free: it imports no net/http, no WebSocket library, no SQL driver and no
// configuration package. The WebSocket endpoint lives in chat/ws, the wire format in
// chat/protocol, the word filter in chat/filter; storage is the Store interface declared
// here and implemented by store/sqlstore.
package chat
