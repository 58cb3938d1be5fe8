package main

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/freelylive/freely/internal/store/sqlstore"
)

// freely demo writes its channels' index rows pending analysis (it loads no dictionary);
// freely reindex analyses every document and reports how many.
func TestReindexAnalysesEveryDocument(t *testing.T) {
	dir := t.TempDir()
	if _, stderr, err := runCmd(t, nil, "demo", "--data-dir", dir); err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr)
	}
	stdout, stderr, err := runCmd(t, nil, "reindex", "--data-dir", dir)
	if err != nil {
		t.Fatalf("reindex: %v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`Search index rebuilt: (\d+) documents`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("reindex printed %q", stdout)
	}
	reported, _ := strconv.Atoi(m[1])

	ctx := context.Background()
	db, err := sqlstore.Open(ctx, sqlstore.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var channels, analysed, pending int
	if err := db.Bun().NewRaw(`SELECT count(*) FROM channels`).Scan(ctx, &channels); err != nil {
		t.Fatal(err)
	}
	if err := db.Bun().NewRaw(`SELECT count(*) FROM search_docs WHERE kind = 'channel' AND analyzed > 0`).Scan(ctx, &analysed); err != nil {
		t.Fatal(err)
	}
	if err := db.Bun().NewRaw(`SELECT count(*) FROM search_docs WHERE analyzed = 0`).Scan(ctx, &pending); err != nil {
		t.Fatal(err)
	}
	if channels == 0 || analysed != channels || pending != 0 || reported < channels {
		t.Errorf("channels %d, analysed channel rows %d, pending rows %d, reported %d", channels, analysed, pending, reported)
	}
}
