; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path, `@scope` (optional) an explicit
; enclosing type for definitions written outside it.
; Sections nest by heading level; a section's chunk is its text before the
; first subsection.
(section (atx_heading heading_content: (_) @name)) @section
(section (setext_heading heading_content: (_) @name)) @section
