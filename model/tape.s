// An assembly file lets tape.go declare tapeRunall without a body: the
// linker binds it to gorgonia's method (see tape.go).
