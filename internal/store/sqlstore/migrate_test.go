package sqlstore

import (
	"testing"
)

// Every migration step must exist for both dialects under the same version and name, or
// one deployment shape would silently lack a table.
func TestMigrationsMatchAcrossDialects(t *testing.T) {
	lite, err := loadMigrations(DialectSQLite)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := loadMigrations(DialectPostgres)
	if err != nil {
		t.Fatal(err)
	}
	if len(lite) == 0 {
		t.Fatal("no migrations embedded")
	}
	if len(lite) != len(pg) {
		t.Fatalf("%d sqlite migrations, %d postgres migrations", len(lite), len(pg))
	}
	for i := range lite {
		if lite[i].Version != pg[i].Version || lite[i].Name != pg[i].Name {
			t.Errorf("migration %d: sqlite %04d_%s, postgres %04d_%s", i, lite[i].Version, lite[i].Name, pg[i].Version, pg[i].Name)
		}
	}
}

func TestSQLiteConstraintColumns(t *testing.T) {
	for msg, want := range map[string]string{
		"constraint failed: UNIQUE constraint failed: users.email (2067)":                                "users.email",
		"UNIQUE constraint failed: users.nickname_key":                                                   "users.nickname_key",
		"UNIQUE constraint failed: channel_categories.channel_id, channel_categories.category_id (1555)": "channel_categories.channel_id, channel_categories.category_id",
		"UNIQUE constraint failed: index 'uq_users_lower_email'":                                         "uq_users_lower_email",
		"something else": "",
	} {
		if got := sqliteConstraintColumns(msg); got != want {
			t.Errorf("sqliteConstraintColumns(%q) = %q, want %q", msg, got, want)
		}
	}
}
