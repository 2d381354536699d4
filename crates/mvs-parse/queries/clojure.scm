; Definitions that become chunks. The capture name is the chunk kind, `@name`
; the identifier of the qualified path. Every definition is a list whose
; head symbol (`@_definer`) says what it defines.
(list_lit
  . (sym_lit name: (sym_name) @_definer)
  . (sym_lit name: (sym_name) @name)
  (#any-of? @_definer "defn" "defn-" "defmulti" "defmethod" "deftest")) @function
(list_lit
  . (sym_lit name: (sym_name) @_definer)
  . (sym_lit name: (sym_name) @name)
  (#any-of? @_definer "defmacro")) @macro
(list_lit
  . (sym_lit name: (sym_name) @_definer)
  . (sym_lit name: (sym_name) @name)
  (#any-of? @_definer "def" "defonce")) @constant
(list_lit
  . (sym_lit name: (sym_name) @_definer)
  . (sym_lit name: (sym_name) @name)
  (#any-of? @_definer "defrecord" "deftype" "defstruct")) @struct
(list_lit
  . (sym_lit name: (sym_name) @_definer)
  . (sym_lit name: (sym_name) @name)
  (#any-of? @_definer "defprotocol" "definterface")) @trait
(list_lit
  . (sym_lit name: (sym_name) @_definer)
  . (sym_lit name: (sym_name) @name)
  (#any-of? @_definer "extend-protocol" "extend-type")) @impl
