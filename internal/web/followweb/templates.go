package followweb

import (
	"embed"
	"io/fs"
)

//go:embed templates
var templatesDir embed.FS

func templateFS() fs.FS {
	sub, err := fs.Sub(templatesDir, "templates")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}
