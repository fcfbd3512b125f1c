package policy

import "testing"

func TestLocate(t *testing.T) {
	src := `# comment [[not]] a = 1
version = 1 # trailing
[[profile]]
name = "a"
  [profile.match]
  annotations = { "org.x" = "y", 'lit' = "z" }
  uid = [
    1,   # one
    2,
  ]
[[profile]]
description = """
[[profile]]
name = "fake" """
  [[ profile.rule ]]
  mknod.path = ['/a', "/b\"]"]
  [[profile.rule]]
  "action" = 'x'
  [profile.rule.mknod]
  major = [ {a = 1}, [2, 3] ]
[[profile]]
match = { uid = [7], sub = { k = 1 } }
`
	want := map[string]srcPos{
		"version":                              {2, 1},
		"profile":                              {3, 1},
		"profile[0]":                           {3, 1},
		"profile[0].name":                      {4, 1},
		"profile[0].match":                     {5, 3},
		"profile[0].match.annotations":         {6, 3},
		`profile[0].match.annotations."org.x"`: {6, 19},
		"profile[0].match.annotations.lit":     {6, 34},
		"profile[0].match.uid":                 {7, 3},
		"profile[0].match.uid[0]":              {8, 5},
		"profile[0].match.uid[1]":              {9, 5},
		"profile[1]":                           {11, 1},
		"profile[1].description":               {12, 1},
		"profile[1].rule[0]":                   {15, 3},
		"profile[1].rule[0].mknod.path":        {16, 3},
		"profile[1].rule[0].mknod.path[1]":     {16, 23},
		"profile[1].rule[1].action":            {18, 3},
		"profile[1].rule[1].mknod":             {19, 3},
		"profile[1].rule[1].mknod.major[0].a":  {20, 14},
		"profile[1].rule[1].mknod.major[1][1]": {20, 26},
		"profile[2].match.uid[0]":              {22, 18},
		"profile[2].match.sub.k":               {22, 30},
	}
	got := locate(src)
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s: got %v (found %v), want %v", k, g, ok, w)
		}
	}
	if _, ok := got["profile[3]"]; ok {
		t.Error("header inside a multi-line string was taken for a table")
	}
	if _, ok := got["profile[1].name"]; ok {
		t.Error("key inside a multi-line string was recorded")
	}
}

func TestLocateTerminates(t *testing.T) {
	for _, src := range []string{"", "[", "[[", "a = [", "a = {", "a = \"\"\"", "a = '''x", "\"", "a.\"b", "= 1", "[a.'b", "a = [{", "a = \"\\"} {
		locate(src)
	}
}

func TestParentKey(t *testing.T) {
	for k, want := range map[string]string{
		"profile[0].rule[1].mknod":              "profile[0].rule[1]",
		"profile[0].rule[1]":                    "profile[0].rule",
		"profile[0]":                            "profile",
		"profile":                               "",
		`profile[0].match.annotations."a.b[0]"`: "profile[0].match.annotations",
		`profile[0].match.annotations."a\".b"`:  "profile[0].match.annotations",
	} {
		if got := parentKey(k); got != want {
			t.Errorf("parentKey(%s) = %q, want %q", k, got, want)
		}
	}
}
