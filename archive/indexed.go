package archive

import (
	"context"
	"errors"
	"fmt"
	"iter"

	bolt "go.etcd.io/bbolt"

	"atalaya"
)

// Every Put records the release as awaiting indexing, in the same
// transaction that archives it, until MarkIndexed says the index has it. A
// crash between archiving and indexing therefore leaves the release listed
// by Unindexed, and the next run indexes it.

// Unindexed yields the latest version of every release archived since it
// was last marked indexed. A release whose record cannot be read is logged
// with its file and offset and skipped (it stays unindexed, and is logged
// again next time); `atalaya archive verify` reports it.
func (a *Archive) Unindexed(ctx context.Context) iter.Seq2[atalaya.Release, error] {
	return func(yield func(atalaya.Release, error) bool) {
		var ids []atalaya.ID
		err := a.db.View(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketUnindexed).ForEach(func(k, _ []byte) error {
				ids = append(ids, atalaya.ID(k))
				return nil
			})
		})
		if err != nil {
			yield(atalaya.Release{}, fmt.Errorf("archive: listing releases to index: %v", err))
			return
		}
		for _, id := range ids {
			rel, err := a.Release(ctx, id)
			var damaged *RecordError
			if errors.As(err, &damaged) {
				a.log.Warn("archive skipping a release whose record is damaged", "file", damaged.File, "offset", damaged.Offset, "release_id", id, "error", damaged.Err)
				continue
			}
			if !yield(rel, err) || err != nil {
				return
			}
		}
	}
}

// MarkIndexed records that the index holds the latest version of each
// release in ids.
func (a *Archive) MarkIndexed(ctx context.Context, ids ...atalaya.ID) error {
	if err := checkCtx(ctx, "mark indexed"); err != nil {
		return err
	}
	err := a.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUnindexed)
		for _, id := range ids {
			if err := b.Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("archive: marking %d releases indexed: %v", len(ids), err)
	}
	return nil
}

// MarkAllIndexed records that the index holds every archived release, as
// after a rebuild from the archive.
func (a *Archive) MarkAllIndexed(ctx context.Context) error {
	if err := checkCtx(ctx, "mark all indexed"); err != nil {
		return err
	}
	err := a.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketUnindexed); err != nil {
			return err
		}
		_, err := tx.CreateBucket(bucketUnindexed)
		return err
	})
	if err != nil {
		return fmt.Errorf("archive: marking all releases indexed: %v", err)
	}
	return nil
}
