        // block_on polls again after its park anyway.
