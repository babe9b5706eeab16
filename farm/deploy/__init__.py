"""Deployment artefacts generated from the code's own registries (functions, tables, topics).

`farm infra generate` writes them to terraform/generated/*.json, which terraform reads with
jsondecode(file(...)) and for_each, so a new function, table or topic cannot be forgotten.
"""
