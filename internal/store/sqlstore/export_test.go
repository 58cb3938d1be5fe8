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

// GenerationListening tells whether db keeps the search index generation in memory (its
// listener is up).
func GenerationListening(db *DB) bool {
	if db.genWatch == nil {
		return false
	}
	db.genWatch.mu.Lock()
	defer db.genWatch.mu.Unlock()
	return db.genWatch.listening
}
