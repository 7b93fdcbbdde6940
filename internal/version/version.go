// Package version names the build of ecsd and ecsctl.
package version

// Version is set at build time with -ldflags "-X github.com/ecsd/ecsd/internal/version.Version=...".
var Version = "0.1.0-dev"
