"""Intake's own tests: ``unit/`` checks the report schema and the pure domain without I/O;
``integration/`` drives intake's HTTP API on a running system (embedded and real backends),
including a broker outage between intake and RabbitMQ.

The plugin's ``system_on(backend, folder, ...)`` lets a test module share one system across its
tests (``scope="module"``) or change a service's environment (e.g. intake's broker URL through a
``TcpProxy``).
"""
