package liveweb

// Exports for the external tests.
var SplitTags = splitTags
