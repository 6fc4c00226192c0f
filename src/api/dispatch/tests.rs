use super::*;

fn team(name: &str, prefs: &[&str], skills: &[Skill], avail: &[Availability], load: i64) -> Team {
    Team {
        id: name.into(),
        name: name.into(),
        prefecture: None,
        skills: skills.to_vec(),
        prefectures: prefs.iter().filter_map(|p| Prefecture::parse(p)).collect(),
        members: avail
            .iter()
            .enumerate()
            .map(|(i, a)| Member { id: format!("{name}-{i}"), name: String::new(), availability: Some(*a) })
            .collect(),
        load,
        version: 1,
    }
}

#[test]
fn a_covering_available_team_with_the_skills_ranks_first() {
    use Availability::*;
    use Skill::*;
    let needs = skills_for(Category::Ransomware);
    let tokyo = Prefecture::parse("13").unwrap();
    let ranked = rank(
        vec![
            team("far-away", &["47"], &[Forensics, ActiveDirectory, BackupRestore], &[OnCall], 0),
            team("neighbour", &["11"], &[Forensics], &[Available], 0),
            team("local", &["13"], &[Forensics, ActiveDirectory], &[Available], 0),
            team("local-busy", &["13"], &[Forensics, ActiveDirectory], &[Busy], 2),
        ],
        tokyo,
        needs,
    );
    let order: Vec<&str> = ranked.iter().map(|s| s.team.name.as_str()).collect();
    assert_eq!(order, ["local", "far-away", "neighbour", "local-busy"]);
    for s in &ranked {
        assert_eq!(s.score, s.reasons.iter().map(|r| r.points).sum::<i32>());
    }
}
