// Package config reads Atalaya's configuration file: which sources to crawl,
// how to read their pages, how politely to fetch them and when.
//
// # Reading a file
//
// [Parse] decodes a YAML document strictly: an unknown key is an error, and
// every problem found in the file is reported, each with the file name, the
// line and the YAML path of the offending key, as in
//
//	config.yaml:42: sources[3].listing.item: selector "div[" does not parse: …
//
// The error is a [Problems] value listing them all. [Load] reads a file by
// name, and [Default] returns the configuration embedded in the binary
// (default.yaml), which crawls the US State Department, the US Treasury and
// OFAC, and five gob.mx agencies.
//
// # Profiles
//
// Sites built on one CMS share their selectors. A profile holds any part of
// a source definition under a name. A source starts from the built-in
// defaults, then takes every key the "defaults" section sets, then every key
// of the profile it names with "profile: NAME", then every key it sets
// itself. Mappings merge key by key (headers too); lists
// and scalars are replaced as a whole. The sources in [Config.Sources] are
// resolved: profiles and defaults are already applied.
//
// # Reference
//
// The "Configuration" section of the README documents every key.
//
// Package config imports no other Atalaya package: cmd/atalaya maps its
// plain structs onto the crawler's and the scheduler's own types. Values are
// not safe for concurrent mutation, but may be read concurrently.
package config
