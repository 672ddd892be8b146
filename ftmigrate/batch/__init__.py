"""``ftmigrate batch``: migrate many git repositories in one run, locally or on a Dask cluster.

Modules: ``model`` (options, tasks, results), ``gitcmd`` (git by subprocess), ``workspace``
(the repository, its worktree and branch), ``migrate`` (apply and commit), ``testcmd``
(``--test-cmd``), ``worker`` (one repository end to end), ``store`` (files in DIR),
``executors`` (local pool, Dask), ``progress``, ``report``, ``command`` (the CLI's entry).
"""
