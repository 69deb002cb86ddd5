"""Operations on a whole lake, built on the framework and the stage registry: status, invalidation."""
