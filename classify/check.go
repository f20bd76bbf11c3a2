package classify

import "slices"

// Check runs every rule's examples: each Fire sentence must fire the rule
// and each Not sentence must not. It returns one problem per failing
// example, at the rule's line.
func (rs *Rules) Check() []Problem {
	var problems []Problem
	for i := range rs.rules {
		r := &rs.rules[i]
		for _, ex := range r.Examples.Fire {
			if !rs.fires(r, ex) {
				problems = append(problems, Problem{File: rs.name, Line: r.Line, Rule: r.ID, Msg: "example does not fire: " + quote(ex)})
			}
		}
		for _, ex := range r.Examples.Not {
			if rs.fires(r, ex) {
				problems = append(problems, Problem{File: rs.name, Line: r.Line, Rule: r.ID, Msg: "counter-example fires: " + quote(ex)})
			}
		}
	}
	return problems
}

// fires reports whether rule r fires on example text, placed in the body
// (or the title, for a title-only rule) in every language the rule has.
func (rs *Rules) fires(r *Rule, example string) bool {
	title, body := "", example
	if !slices.Contains(r.Fields, FieldBody) {
		title, body = example, ""
	}
	v := rs.ClassifyText(title, body, "")
	return slices.ContainsFunc(v.Evidence, func(e Evidence) bool { return e.Rule == r.ID })
}
