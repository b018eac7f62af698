-- Covering indexes for the gallery load (Store.Gallery), which joins
-- templates -> samples -> encounters for one modality. Without them SQLite
-- scans the samples table, whose rows hold the image bytes, and looks each
-- encounter row up; with them the samples of a modality and each
-- encounter's identity come from the indexes alone. Measured on 10,000
-- templates: 126 ms without, 49-82 ms with (docs/store.md).
CREATE INDEX samples_gallery ON samples (modality, id, position, encounter_id);
CREATE INDEX encounters_gallery ON encounters (id, identity_id);
