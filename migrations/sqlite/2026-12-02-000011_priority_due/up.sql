-- When an untriaged incident's waiting-time factor next changes (its next full hour since filing).
-- Housekeeping reads only the untriaged incidents that are due, through this partial index, instead
-- of every untriaged incident at every pass. The code writes it with every incident row (an hour after
-- filing); rows from before this migration start due (the epoch).
ALTER TABLE incidents ADD COLUMN priority_due_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
CREATE INDEX incidents_priority_due ON incidents (priority_due_at) WHERE status = 'reported';
