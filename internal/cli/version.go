package cli

// Build information, set by the release build through -ldflags -X.
var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)
