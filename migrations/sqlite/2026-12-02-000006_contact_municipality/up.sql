-- A contact of one municipality (JIS X 0402): the health department of a city that runs its own
-- public health centre (保健所設置市) or of a Tokyo special ward (特別区), which oversees the
-- hospitals there under 医療法25条 instead of the prefecture.
ALTER TABLE contacts ADD COLUMN municipality TEXT NULL;
