-- Alert retention (sqlstore/alert_retention.go) finds expired events by time: the newest one
-- bounds each user's primary-key range of alerts to delete, and the events themselves go
-- oldest first. One entry per broadcast or notice, so the index costs nothing on the alert
-- fan-out; the alerts table itself gets no index (each fan-out row would write it).
CREATE INDEX ix_alert_events_occurred_at ON alert_events (occurred_at);
