; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Elixir writes every definition as a
; macro call (`defmodule Repo do ... end`, `def insert(struct) do ... end`,
; `def id, do: 1`); `@_keyword` picks which macros define something.
(call
  target: (identifier) @_keyword
  (arguments (alias) @name)
  (#any-of? @_keyword "defmodule" "defprotocol")) @module
(call
  target: (identifier) @_keyword
  (arguments (alias) @name)
  (#eq? @_keyword "defimpl")) @impl
(call
  target: (identifier) @_keyword
  (arguments
    [
      (call target: (identifier) @name)
      (identifier) @name
      (binary_operator left: (call target: (identifier) @name))
    ])
  (#any-of? @_keyword "def" "defp" "defmacro" "defmacrop" "defguard" "defguardp" "defdelegate")) @function
