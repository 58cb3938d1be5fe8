// Package chatweb is live chat's part of the web front, added through web.Extension: the
// chat panel beside the channel page's player (with the WebSocket endpoint it talks to, at
// /api/v1/chat/{handle}/ws) and the owner's chat dashboard at /dashboard/chat (managers, the
// word filter, bans, the audit log and chat-log search). Every permission is the chat hub's
// to check; this package only shows the controls a user may use and maps the hub's refusals
// to pages. It imports no SQL and no configuration.
package chatweb
