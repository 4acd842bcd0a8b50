        thread::current().unpark();
