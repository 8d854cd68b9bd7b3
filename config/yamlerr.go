package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlLine matches one problem in a yaml.TypeError: its line, the YAML
// value (when shown) and the Go type it did not fit.
var yamlLine = regexp.MustCompile("^line (\\d+): cannot unmarshal !!\\w+ (?:`([^`]*)` )?into (\\S+)$")

// describeYAMLError rewrites the YAML decoder's type errors so that each
// names the configuration key and what it accepts, not a line and a Go type.
func describeYAMLError(data []byte, err error) string {
	te, ok := err.(*yaml.TypeError)
	if !ok {
		return strings.TrimPrefix(err.Error(), "yaml: ")
	}
	keys := keysByLine(data)
	var out []string
	for _, e := range te.Errors {
		m := yamlLine.FindStringSubmatch(e)
		if m == nil {
			out = append(out, e) // unknown keys and the like already name the key
			continue
		}
		line, _ := strconv.Atoi(m[1])
		key := keys[line]
		if key == "" {
			key = "line " + m[1]
		}
		value := m[2]
		if value == "" {
			value = "this value"
		} else {
			value = strconv.Quote(value)
		}
		out = append(out, fmt.Sprintf("%s (line %d): %s is not valid: it must be %s", key, line, value, goTypeWords(m[3])))
	}
	return strings.Join(out, "; ")
}

func goTypeWords(t string) string {
	switch t {
	case "string":
		return "text"
	case "int", "uint8", "uint32", "int64":
		return "a whole number"
	case "bool":
		return "true or false"
	case "time.Duration":
		return "a duration such as 30s, 15m or 8h"
	case "[]string":
		return "a list, such as [127.0.0.1, 10.0.0.0/8]"
	}
	return "a " + t
}

// keysByLine maps each line of a YAML document to the dotted path of the
// innermost key whose value starts on it.
func keysByLine(data []byte) map[int]string {
	var doc yaml.Node
	out := map[int]string{}
	if yaml.Unmarshal(data, &doc) != nil {
		return out
	}
	var walk func(n *yaml.Node, prefix string)
	walk = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, prefix)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				if prefix != "" {
					key = prefix + "." + key
				}
				out[n.Content[i+1].Line] = key
				walk(n.Content[i+1], key)
			}
		}
	}
	walk(&doc, "")
	return out
}
