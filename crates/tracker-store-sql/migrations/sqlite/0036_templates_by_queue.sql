-- A queue's triggers, counted with every read of the queue
-- (`QueueRecord::triggers`, issue #16): a create looks for triggers only
-- when its queue has some. Without this index the count walked all of the
-- organization's templates of the kind (`templates_by_org`) and read each
-- row for its queue; with it the count reads the queue's own entries alone.
CREATE INDEX templates_by_queue ON templates (org, queue_id, kind);
