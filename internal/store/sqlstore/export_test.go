package sqlstore

// The retention statements, for the test that checks their plans.
const (
	NewestExpiredEventSQL     = newestExpiredEventSQL
	OldestEventSQL            = oldestEventSQL
	DeleteAlertsSQLite        = deleteAlertsSQLite
	DeleteAlertsPostgres      = deleteAlertsPostgres
	DeleteAlertEventsSQLite   = deleteAlertEventsSQLite
	DeleteAlertEventsPostgres = deleteAlertEventsPostgres
)

// DBTime is the form times are stored in.
var DBTime = dbTime
