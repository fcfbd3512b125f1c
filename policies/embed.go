// Package policies embeds the policy files shipped with fgacd, so the
// daemon and tests can load them without a file system path, e.g.
// policy.LoadFS(policies.FS, "default.toml").
//
// Each file has golden decision cases in testdata/<name>.cases, run by
// pkg/policy's tests. default.toml holds a catch-all profile, so load it
// alone or last: profiles after a catch-all could never be selected, and
// Compile rejects that.
package policies

import "embed"

// FS holds every shipped *.toml policy at its top level.
//
//go:embed *.toml
var FS embed.FS
