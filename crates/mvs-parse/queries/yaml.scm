; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Each top-level key of a document
; is a section (a nested mapping or list) or a constant (a scalar); a
; pattern ends at `value:` so the first listed wins for a node both match.
; Items of a top-level list (playbooks, lists of records) are constants, so
; small ones merge into runs.
(stream
  (document
    (block_node
      (block_mapping (block_mapping_pair key: (_) @name value: (block_node)) @section))))
(stream
  (document
    (block_node
      (block_mapping (block_mapping_pair key: (_) @name value: (_)) @constant))))
(stream (document (block_node (block_sequence (block_sequence_item) @constant))))
; tree-sitter-yaml 0.7.2's scanner keeps rows in `int16_t` (scanner.c:147):
; past line 32767 the whole tree is an ERROR; its top-level pairs before that
; line are still units (the rest of the file is windows).
(ERROR (block_mapping_pair key: (_) @name value: (block_node)) @section)
(ERROR (block_mapping_pair key: (_) @name value: (_)) @constant)
