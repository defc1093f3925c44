"""Instructor tools for the nnlib course: the trusted grader, release, publish and a stack doctor."""
