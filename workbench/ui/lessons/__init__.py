"""The Lessons menu: each entry sets up one demonstration of the lecture (model, input,
tab, parameters), runs it, and explains it in the Lesson dock beside the tab."""
