; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Each member of the top-level
; object is a section (an object or array value) or a constant (a scalar);
; a pattern ends at `value:` so the first listed wins for a node both match.
; Elements of a top-level array are constants, so small ones merge into runs.
(document (object (pair key: (string (string_content) @name) value: [(object) (array)]) @section))
(document (object (pair key: (string (string_content) @name) value: (_)) @constant))
(document (array (_) @constant))
