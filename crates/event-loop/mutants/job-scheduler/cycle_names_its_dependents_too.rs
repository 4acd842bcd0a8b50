    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, job) in jobs.iter().enumerate() {
        if job.name.is_empty() || job.name.chars().any(char::is_whitespace) {
            return Err(JobError::BadName {
                name: job.name.clone(),
            });
        }
        if index.insert(&job.name, i).is_some() {
            return Err(JobError::Duplicate {
                name: job.name.clone(),
            });
        }
    }
    let mut needs: Vec<Vec<usize>> = Vec::with_capacity(jobs.len());
    for job in jobs {
        let mut deps = Vec::with_capacity(job.after.len());
        for name in &job.after {
            match index.get(name.as_str()) {
                Some(&d) => deps.push(d),
                None => {
                    return Err(JobError::UnknownDependency {
                        job: job.name.clone(),
                        missing: name.clone(),
                    });
                }
            }
        }
        needs.push(deps);
    }

    // A depth-first walk along the dependencies. A job reached again while it is still
    // on the current path closes a cycle: the path from it. A job whose dependencies
    // were all walked is clear, and reaching it again (a diamond) is no cycle. A loop
    // with an explicit path, not recursion: a chain of a million jobs would overflow
    // the thread's stack.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Mark {
        New,
        OnPath,
        Clear,
    }
    let mut mark = vec![Mark::New; jobs.len()];
    for root in 0..jobs.len() {
        if mark[root] != Mark::New {
            continue;
        }
        // Each job on the path, and how many of its dependencies were walked.
        let mut path: Vec<(usize, usize)> = vec![(root, 0)];
        mark[root] = Mark::OnPath;
        while let Some(top) = path.last_mut() {
            let (job, walked) = *top;
            let Some(&dep) = needs[job].get(walked) else {
                mark[job] = Mark::Clear;
                path.pop();
                continue;
            };
            top.1 += 1;
            match mark[dep] {
                Mark::New => {
                    mark[dep] = Mark::OnPath;
                    path.push((dep, 0));
                }
                Mark::OnPath => {
                    // Every job on the walk is stuck behind the cycle.
                    return Err(JobError::Cycle {
                        jobs: path
                            .iter()
                            .map(|&(j, _)| jobs[j].name.clone())
                            .collect(),
                    });
                }
                Mark::Clear => {}
            }
        }
    }
    Ok(())
