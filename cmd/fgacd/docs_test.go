package main

import (
	"reflect"
	"testing"
)

// docs/fgacd.toml documents every setting with its default; it must parse
// and say exactly what DefaultConfig says.
func TestDocumentedConfigIsTheDefault(t *testing.T) {
	cfg, err := LoadConfig("../../docs/fgacd.toml", true)
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if def.Intake.AllowUIDs == nil {
		def.Intake.AllowUIDs = []uint32{}
	}
	if !reflect.DeepEqual(cfg, def) {
		t.Errorf("docs/fgacd.toml and DefaultConfig differ:\n docs:    %+v\n default: %+v", cfg, def)
	}
}
