// Package atalaya is the shared vocabulary of Atalaya, a service that watches
// what the US and Mexican governments announce about drugs, organized crime
// and security, and shows whether they act against kingpins or against root
// causes.
//
// # Architecture
//
// Data flows one way:
//
//	config ─► crawler ─► archive ─► classify ─► index ─► search ─► web UI / API / feeds
//	           (schedule and ingest drive a run)          └──────► digest ─► SMTP
//
// This package holds only the types every layer shares ([Source], [Release],
// [Page], [ID], [CrawlRun], [SourceIssue]) and imports nothing but the
// standard library. Lower layers never import higher ones; deps_test.go states
// the allowed imports and fails the build when they are broken.
package atalaya
