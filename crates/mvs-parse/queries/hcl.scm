; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. A top-level block is named by its
; last label (`resource "aws_s3_bucket" "invoices"` -> `invoices`; the header
; line is its signature), or by its type when it has none (`locals`);
; top-level attributes (`.tfvars`) are constants.
(config_file
  (body
    (block
      [(identifier) @name (string_lit (template_literal) @name)]
      .
      (block_start)) @struct))
(config_file (body (attribute (identifier) @name) @constant))
