"""The export wing: many pictures from one sketch (`artlang export`).

`syntax` reads the options' text forms (seeds, param values, frames); `variations` makes the seeds
and params of a sweep or a data set; `jobs` plans the units (one frame of one variation), resumes
and runs them; `units` draws one unit into the bytes of its file, here or from a self-contained
`UnitSpec`; `backends` runs them here or in worker processes, `cluster` on Dask; `animations`
encodes animations while their frames arrive; `products` writes a data set's manifest and a
contact sheet.
"""
