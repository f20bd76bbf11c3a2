// Package digest builds email digests of newly indexed releases and
// delivers each release exactly once per digest.
//
// A digest ([Definition]) is a query in the search language, recipients
// and a schedule. Each message lists the releases matching the query that
// were indexed since the digest's last delivered message and never sent by
// it, grouped by label and newest first, each with its strongest evidence
// and links; corrections for releases sent before and revised since; and a
// coverage section (per source the filter covers: releases indexed since
// the last message and open health issues; counts per label), so that
// silence never means "the crawler broke".
//
// # Exactly once
//
// The [Store] (an embedded bbolt file) keeps per digest a watermark, a
// sent-log (release ID → version and label sent) and the delivery attempts.
// A run:
//
//  1. builds the message from the index (releases indexed after the
//     watermark, less an hour of overlap, minus those in the sent-log) and
//     renders it;
//  2. stores it as pending, with a deterministic Message-ID;
//  3. hands it to the [Transport]: an SMTP server ([SMTP], through go-mail)
//     or a directory of .eml files ([Outbox]);
//  4. once the server answered 250 to the end of DATA, records in one
//     transaction the releases as sent, the new watermark and the attempt,
//     and drops the pending message.
//
// A failure is recorded as a failed attempt and the watermark stays. When
// the failure proves the server never took the message (refused
// connection, authentication, a recipient), the next run rebuilds it with
// everything still unsent. When it does not (the connection broke after
// the end of DATA, or the process died between 3 and 4), the next run
// delivers the pending message again with the same Message-ID before
// building the next one: that is the one window where a message can arrive
// twice, never one where a release is lost.
//
// Rendering uses text/template for the subject and the plain-text part and
// html/template for the HTML part; both can be replaced ([Templates]).
package digest
