"""The portal: the pages citizens, regions, departments (and, next, the office and auditors) use."""
